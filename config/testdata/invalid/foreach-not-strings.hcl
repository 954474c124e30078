image "linux-debian" {
  for_each = [11, 12] # ERROR: Invalid for_each argument
  template = "templates/debian"
  build    = "file.linux-debian"
}

image "linux-ubuntu" {
  for_each = "2204" # ERROR: Invalid for_each argument
  template = "templates/ubuntu"
  build    = "file.linux-ubuntu"
}
