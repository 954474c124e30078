variable "region" {
  type = string
}

variable "region" { # ERROR: Duplicate variable
  type = string
}

variables {
  region = "eu-west-1" # ERROR: Duplicate variable
  zone   = "a"
}

variable "zone" { # ERROR: Duplicate variable
  default = "b"
}

variable "1st" { # ERROR: Invalid variable name
  type = string
}
