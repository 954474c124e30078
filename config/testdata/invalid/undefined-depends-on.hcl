image "app" {
  template   = "templates/linux"
  build      = "file.linux-app"
  depends_on = [image.base] # ERROR: Reference to undeclared image
}
