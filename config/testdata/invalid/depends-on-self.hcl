image "app" {
  template   = "templates/linux"
  build      = "file.linux-app"
  depends_on = ["app"] # ERROR: Image depends on itself
}
