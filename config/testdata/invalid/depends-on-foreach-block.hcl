image "linux-debian" {
  for_each = toset(["11", "12"])
  template = "templates/debian"
  build    = "file.linux-debian"
}

image "app" {
  template   = "templates/app"
  build      = "file.linux-app"
  depends_on = [image.linux-debian] # ERROR: Reference to an image block with for_each
}

image "tools" {
  for_each   = toset(["11", "12"])
  template   = "templates/tools"
  build      = "file.linux-tools"
  depends_on = ["linux-debian"] # ERROR: Reference to an image block with for_each
}
