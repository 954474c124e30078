# A template that builds real artifacts with no cloud or hypervisor: a null
# build with a shell-local provisioner and a file build, both recorded by a
# manifest post-processor.

variable "secret" {
  type      = string
  sensitive = true
}

variable "greeting" {
  type    = string
  default = "hello"
}

variable "fail" {
  type    = bool
  default = false
}

variable "leak" {
  type    = bool
  default = false
}

variable "sleep" {
  type    = number
  default = 0
}

variable "manifest_name" {
  type    = string
  default = "manifest-{{timestamp}}.json"
}

source "null" "linux-a" {
  communicator = "none"
}

source "file" "linux-b" {
  content = "x"
  target  = "artifact.txt"
}

build {
  sources = ["source.null.linux-a", "source.file.linux-b"]

  provisioner "shell-local" {
    only             = ["null.linux-a"]
    environment_vars = ["SECRET=${var.secret}"]
    inline = [
      "echo ${var.greeting} > ${path.cwd}/out.txt",
      "printf '%s' \"$SECRET\" | sha256sum | cut -d' ' -f1 > ${path.cwd}/secret.sha256",
      "if [ ${var.leak} = true ]; then echo \"the secret is $SECRET\"; echo \"stderr has $SECRET\" >&2; fi",
      "if [ ${var.fail} = true ]; then echo 'bad thing, happened' >&2; exit 1; fi",
      "if [ ${var.sleep} -gt 0 ]; then echo $$ > ${path.cwd}/shell.pid; echo sleeping; sleep ${var.sleep}; fi",
    ]
  }

  post-processor "manifest" {
    output      = var.manifest_name
    strip_path  = true
    custom_data = { image = "test" }
  }
}
