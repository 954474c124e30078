variable "secret_dir" {
  default   = "templates"
  sensitive = true
}

image "ubuntu" {
  template = var.secret_dir # ERROR: Sensitive value not allowed here
  build    = "file.linux-ubuntu"
}
