hybrid {
  build_timeout = "forever" # ERROR: Invalid build_timeout
}
