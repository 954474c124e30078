# Quickstart: four images, two environments, built offline by real packer.
#
#   hybrid -chdir=examples/quickstart plan
#   hybrid -chdir=examples/quickstart apply
#
# The templates under templates/ use only what packer has built in (the file
# and null builders, shell-local provisioners, the manifest post-processor), so
# they need no cloud, no hypervisor and no network. Artifacts go to output/<env>.

hybrid {
  packer_version = ">= 1.9.0"
  parallelism    = 2
}

# A secret handed to every template. The default is a placeholder that keeps the
# example self-contained; give a real one with HYBRID_VAR_build_password.
# hybrid passes it to packer as PKR_VAR_build_password, never in a file.
variable "build_password" {
  type        = string
  description = "Password of the build account."
  sensitive   = true
  default     = "quickstart-placeholder-password"
}

# The provisioning stacks are left at their defaults: Ansible assets in
# templates/ansible (entry playbook.yml, toggle enable_ansible) and Puppet
# assets in templates/puppet (entry manifests/site.pp, toggle enable_puppet).
# hybrid infers an image's stack from its template's provisioner blocks; these
# templates use shell-local stand-ins for both stacks, so the environments say
# which stack their images use.

var_group "build" {
  var_files = ["vars/build.pkrvars.hcl.example"]
  values    = { build_password = var.build_password }
}

environment "dev" {
  description = "Developer builds."
  provisioner = "ansible"
  values = {
    environment = "dev"
    output_dir  = "output/dev"
  }
}

environment "prod" {
  description = "Release builds: dev's settings, with their own output directory."
  parent      = environment.dev
  values = {
    environment = "prod"
    output_dir  = "output/prod"
  }
}

image "linux-ubuntu" {
  description = "Ubuntu 22.04 base image."
  template    = "templates/linux"
  build       = "file.linux-ubuntu"
  var_groups  = [var_group.build]
  values      = { os_version = "22.04" }
}

image "linux-rocky" {
  description = "Rocky Linux 9 base image."
  template    = "templates/linux"
  build       = "file.linux-rocky"
  var_groups  = [var_group.build]
  values      = { os_version = "9.4" }
}

image "windows-server-2022" {
  description = "Windows Server 2022 Datacenter, provisioned with Puppet."
  template    = "templates/windows"
  build       = "null.windows-server-2022"
  var_groups  = [var_group.build]
  values      = { os_version = "2022", os_edition = "datacenter" }
  provisioner = "puppet"
}

image "linux-ubuntu-app" {
  description = "An application layered on the Ubuntu image, built from its artifact."
  template    = "templates/linux-app"
  build       = "file.linux-ubuntu-app"
  var_groups  = [var_group.build]
  values      = { app_name = "web" }
  depends_on  = [image.linux-ubuntu]
}
