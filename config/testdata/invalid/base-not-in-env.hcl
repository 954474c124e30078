environment "dev" {}
environment "prod" {}

image "base" {
  template     = "templates/linux"
  build        = "file.linux-base"
  environments = ["dev"]
}

image "app" {
  template   = "templates/linux"
  build      = "file.linux-app"
  depends_on = [image.base] # ERROR: Base image not built in environment
}
