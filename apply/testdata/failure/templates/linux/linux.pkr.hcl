// A base image whose build fails, an image derived from it, and an
// independent image that writes its artifact file under output/.

packer {
  required_version = ">= 1.9.0"
}

// Provisioning stack toggles, set by hybrid; unused here.
variable "enable_ansible" {
  type    = bool
  default = false
}

variable "enable_puppet" {
  type    = bool
  default = false
}

source "null" "linux-base" {
  communicator = "none"
}

source "file" "linux-app" {
  content = "app\n"
  target  = "output/linux-app.txt"
}

source "file" "linux-other" {
  content = "other\n"
  target  = "output/linux-other.txt"
}

build {
  sources = ["source.null.linux-base"]

  provisioner "shell-local" {
    inline = ["echo 'base provisioning failed' >&2", "exit 1"]
  }
}

build {
  sources = ["source.file.linux-app", "source.file.linux-other"]

  // In packer's working directory (the workspace root): apply looks for
  // manifests there.
  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = false
  }
}
