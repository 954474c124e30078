// Set per OS (os_pkrvars/<os>/<os>.pkrvars.hcl).
variable "os_name" {
  type        = string
  description = "OS name: debian, ubuntu or rockylinux. Selects http/<os_name>/ and scripts/<os_name>.sh."
}

variable "answer_file" {
  type        = string
  description = "Installer answer file under http/<os_name>/, rendered with templatefile()."
}

variable "mirror" {
  type        = string
  description = "Package mirror the installer and the scripts use."
}

// Set per box (os_pkrvars/<os>/<os>-<version>-x86_64.pkrvars.hcl).
variable "os_version" {
  type        = string
  description = "OS version, e.g. 12 or 22.04."
}

variable "os_arch" {
  type    = string
  default = "x86_64"
}

variable "iso_url" {
  type        = string
  description = "Installation ISO."
}

variable "iso_checksum" {
  type        = string
  description = "Checksum of the installation ISO, as type:value."
}

// Shared by every box (os_pkrvars/common.pkrvars.hcl).
variable "cpus" {
  type    = number
  default = 2
}

variable "memory" {
  type    = number
  default = 2048
}

variable "disk_size" {
  type    = number
  default = 65536
}

variable "vagrant_user" {
  type    = string
  default = "vagrant"
}

variable "box_version" {
  type        = string
  description = "Version the box is published under."
  default     = "0.0.0"
}

// Where the box, its manifest and runs.log are written.
variable "output_directory" {
  type    = string
  default = "builds"
}
