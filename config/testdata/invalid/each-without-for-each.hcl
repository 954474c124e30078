image "linux-debian" {
  template = "templates/debian"
  build    = "file.linux-debian-${each.key}" # ERROR: Reference to "each" in an image without for_each
}

image "linux-ubuntu" {
  for_each = toset(each.value) # ERROR: Reference to "each" in for_each
  template = "templates/ubuntu"
  build    = "file.linux-ubuntu"
}
