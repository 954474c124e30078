variable "os" {
  type = string
}

variable "os_version" {
  type = string
}

variable "build_password" {
  type      = string
  sensitive = true
}

variable "enable_ansible" {
  type    = bool
  default = true
}
