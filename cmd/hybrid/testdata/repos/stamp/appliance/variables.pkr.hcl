variable "output_dir" {
  type    = string
  default = "output"
}

variable "release" {
  type        = string
  description = "Appliance release the commit is stamped onto."
  default     = "2.3"
}
