// Variables of the Windows template. hybrid renders their values, per image and
// environment, into configs/<env>/<image>.pkrvars.hcl.

// Provisioning stack toggles: hybrid sets the one an image uses to true.
variable "enable_ansible" {
  type        = bool
  description = "Run the Ansible stack (templates/ansible/playbook.yml)."
  default     = false
}

variable "enable_puppet" {
  type        = bool
  description = "Run the Puppet stack (templates/puppet/manifests/site.pp)."
  default     = false
}

// Set by each environment.
variable "environment" {
  type        = string
  description = "Name of the environment the image is built for."
}

variable "output_dir" {
  type        = string
  description = "Directory, relative to the working directory, that receives artifacts, manifests and runs.log."
}

// Set by var_group "build" (vars/build.pkrvars.hcl.example).
variable "build_username" {
  type        = string
  description = "Name of the build account."
}

variable "build_password" {
  type        = string
  description = "Password of the build account."
  sensitive   = true

  validation {
    condition     = length(var.build_password) >= 8
    error_message = "The build_password must be at least 8 characters long."
  }
}

variable "build_timezone" {
  type        = string
  description = "Timezone of the image."
}

// Set by each image.
variable "os_version" {
  type        = string
  description = "Version of Windows Server, e.g. 2022."
}

variable "os_edition" {
  type        = string
  description = "Edition of Windows Server: standard or datacenter."
  default     = "datacenter"

  validation {
    condition     = contains(["standard", "datacenter"], var.os_edition)
    error_message = "The os_edition must be standard or datacenter."
  }
}
