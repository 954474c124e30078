image "linux-debian-12" {
  template = "templates/debian"
  build    = "file.linux-debian"
}

image "linux-debian" {
  for_each = toset(["11", "12"]) # ERROR: Duplicate image block
  template = "templates/debian"
  build    = "file.linux-debian"
}

image "linux" {
  for_each = toset(["debian-11"]) # ERROR: Duplicate image block
  template = "templates/debian"
  build    = "file.linux-debian"
}

image "linux-debian-11" { # ERROR: Duplicate image block
  template = "templates/debian"
  build    = "file.linux-debian"
}
