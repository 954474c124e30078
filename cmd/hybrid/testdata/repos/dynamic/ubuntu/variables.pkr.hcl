variable "sources_enabled" {
  type        = list(string)
  description = "Exports to build, as source.<type>.<name>."
  default     = ["source.file.linux-ubuntu-qemu"]
}

variable "hardening" {
  type        = list(string)
  description = "Hardening profiles (scripts under hardening/), applied in order."
  default     = ["ssh"]
}

variable "image_version" {
  type    = string
  default = "22.04.0"
}

variable "output_dir" {
  type        = string
  description = "Directory the exports, their manifests and runs.log go to."
  default     = "output"
}
