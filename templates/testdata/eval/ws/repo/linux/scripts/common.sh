common
