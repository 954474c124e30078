# multi-os: a workspace laid out like a vSphere template repository (one
# directory per OS version under builds/, shared var files, .example defaults,
# assets read from ${path.cwd}/ansible and ${path.cwd}/puppet). It validates
# offline; building needs a vCenter Server and the vsphere plugin.
#
#   hybrid -chdir=examples/multi-os validate
#   hybrid -chdir=examples/multi-os images

hybrid {
  packer_version = ">= 1.9.0"
  parallelism    = 4
}

plugin "vsphere" {
  source  = "github.com/hashicorp/vsphere"
  version = ">= 1.2.0, < 2.0.0"
}

# Secrets. The defaults are placeholders so that validate runs anywhere; a
# real pipeline sets HYBRID_VAR_vsphere_password and the others. hybrid hands
# them to packer as PKR_VAR_<name>, never in a rendered var file.
variable "vsphere_password" {
  type        = string
  description = "Password of the vCenter Server build account."
  sensitive   = true
  default     = "placeholder-not-a-vsphere-password"
}

variable "build_password" {
  type        = string
  description = "Password of the guest build account."
  sensitive   = true
  default     = "placeholder-not-a-build-password"
}

variable "build_password_encrypted" {
  type        = string
  description = "The guest build account's password, crypt(3)-hashed (mkpasswd -m sha-512)."
  sensitive   = true
  default     = "$6$placeholder$notarealhashnotarealhashnotarealhash"
}

# The repository keeps its assets at the root, not under templates/, and the
# templates read them from ${path.cwd}: images set working_dir = ".".
provisioner "ansible" {
  dir      = "ansible"
  entry    = "playbook.yml"
  variable = "enable_ansible"
}

provisioner "puppet" {
  dir      = "puppet"
  entry    = "manifests/site.pp"
  variable = "enable_puppet"
}

# The shared var files, in the order the repository documents them.
var_group "vsphere" {
  var_files = ["builds/vsphere.pkrvars.hcl.example"]
  values    = { vsphere_password = var.vsphere_password }
}

var_group "build" {
  var_files = ["builds/build.pkrvars.hcl.example"]
  values    = { build_password = var.build_password }
}

var_group "common" {
  var_files = ["builds/common.pkrvars.hcl.example"]
}

var_group "network" {
  var_files = ["builds/network.pkrvars.hcl.example"]
}

var_group "storage" {
  var_files = ["builds/storage.pkrvars.hcl.example"]
}

environment "dev" {
  description = "Template development: its own folder and content library, a lab vCenter with a self-signed certificate."
  values = {
    vsphere_folder              = "sfo-fd-templates-dev"
    vsphere_insecure_connection = true
    common_content_library_name = "sfo-cl-templates-dev"
  }
}

environment "stage" {
  description = "Release candidates, built like prod in their own folder and content library."
  parent      = environment.dev
  values = {
    vsphere_folder              = "sfo-fd-templates-stage"
    common_content_library_name = "sfo-cl-templates-stage"
  }
}

environment "prod" {
  description = "The templates everyone deploys from; also exported as OVF under artifacts/."
  parent      = environment.stage
  values = {
    vsphere_folder              = "sfo-fd-templates"
    vsphere_insecure_connection = false
    common_content_library_name = "sfo-cl-templates"
    common_ovf_export_enabled   = true
  }
}

# Linux: Ansible, the default stack.
image "linux-ubuntu-22-04" {
  description = "Ubuntu Server 22.04 LTS."
  template    = "builds/linux/ubuntu/22-04-lts"
  build       = "vsphere-iso.linux-ubuntu"
  working_dir = "."
  var_files   = ["builds/linux/ubuntu/22-04-lts/linux-ubuntu.pkrvars.hcl.example"]
  var_groups  = [var_group.vsphere, var_group.build, var_group.common, var_group.network, var_group.storage]
  values      = { build_password_encrypted = var.build_password_encrypted }
}

image "linux-rhel-9" {
  description = "Red Hat Enterprise Linux 9."
  template    = "builds/linux/rhel/9"
  build       = "vsphere-iso.linux-rhel"
  working_dir = "."
  var_files   = ["builds/linux/rhel/9/linux-rhel.pkrvars.hcl.example"]
  var_groups  = [var_group.vsphere, var_group.build, var_group.common, var_group.network, var_group.storage]
  values      = { build_password_encrypted = var.build_password_encrypted }
}

# Windows Server 2022: four sources of one template. Datacenter is configured
# with Puppet; Standard is left as installed. Desktop Experience is not built in dev.
image "windows-server-2022-standard-core" {
  description = "Windows Server 2022 Standard, Server Core."
  template    = "builds/windows/server/2022"
  build       = "vsphere-iso.windows-server-2022-standard-core"
  working_dir = "."
  var_files   = ["builds/windows/server/2022/windows-server.pkrvars.hcl.example"]
  var_groups  = [var_group.vsphere, var_group.build, var_group.common, var_group.network, var_group.storage]
  provisioner = "none"
}

image "windows-server-2022-standard-dexp" {
  description  = "Windows Server 2022 Standard, Desktop Experience."
  template     = "builds/windows/server/2022"
  build        = "vsphere-iso.windows-server-2022-standard-dexp"
  working_dir  = "."
  var_files    = ["builds/windows/server/2022/windows-server.pkrvars.hcl.example"]
  var_groups   = [var_group.vsphere, var_group.build, var_group.common, var_group.network, var_group.storage]
  provisioner  = "none"
  environments = [environment.stage, environment.prod]
}

image "windows-server-2022-datacenter-core" {
  description = "Windows Server 2022 Datacenter, Server Core."
  template    = "builds/windows/server/2022"
  build       = "vsphere-iso.windows-server-2022-datacenter-core"
  working_dir = "."
  var_files   = ["builds/windows/server/2022/windows-server.pkrvars.hcl.example"]
  var_groups  = [var_group.vsphere, var_group.build, var_group.common, var_group.network, var_group.storage]
  provisioner = "puppet"
}

image "windows-server-2022-datacenter-dexp" {
  description  = "Windows Server 2022 Datacenter, Desktop Experience."
  template     = "builds/windows/server/2022"
  build        = "vsphere-iso.windows-server-2022-datacenter-dexp"
  working_dir  = "."
  var_files    = ["builds/windows/server/2022/windows-server.pkrvars.hcl.example"]
  var_groups   = [var_group.vsphere, var_group.build, var_group.common, var_group.network, var_group.storage]
  provisioner  = "puppet"
  environments = [environment.stage, environment.prod]
}
