environment "dev" {}

image "ubuntu" {
  template     = "templates/linux"
  build        = "file.linux-ubuntu"
  environments = [environment.prod] # ERROR: Reference to undeclared environment
}
