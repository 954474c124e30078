variable "pin" { # ERROR: Sensitive value too short
  type      = string
  sensitive = true
  default   = "1234"
}

variable "creds" { # ERROR: Sensitive value too short
  type      = object({ user = string, pass = string })
  sensitive = true
  default   = { user = "root", pass = "long-enough-password" }
}

variable "known_short" {
  type                   = string
  sensitive              = true
  allow_short_unredacted = true
  default                = "1234"
}
