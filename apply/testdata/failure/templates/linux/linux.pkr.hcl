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

  // Beside the artifacts, with a timestamp in its name, as real templates
  // do: apply finds it by what changed under the working directory.
  post-processor "manifest" {
    output     = "output/manifest-${formatdate("YYYYMMDDhhmmss", timestamp())}.json"
    strip_path = false
  }
}
