variable "output_dir" {
  type        = string
  description = "Where images and runs.log go."
  default     = "output"
}

variable "timezone" {
  type    = string
  default = "UTC"
}

variable "dns_servers" {
  type    = list(string)
  default = ["1.1.1.1"]
}

variable "ssh_user" {
  type        = string
  description = "Account the lab's automation logs in with."
}

variable "alpine_version" {
  type    = string
  default = "3.20"
}
