variable "secret" {
  type      = string
  sensitive = true
  default   = "Zq9-fixture-secret"
}

image "named" {
  template = "templates/linux"
  build    = "file.linux-named"
  values   = { (var.secret) = true } # ERROR: Sensitive value not allowed here
}

image "chosen" {
  template = "templates/linux"
  build    = "file.linux-chosen"
  values   = can(regex("^Z", var.secret)) ? { a = 1 } : { b = 1 } # ERROR: Sensitive value not allowed here
}
