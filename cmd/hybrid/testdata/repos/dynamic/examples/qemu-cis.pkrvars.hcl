sources_enabled = ["source.file.linux-ubuntu-qemu"]
hardening       = ["ssh", "cis-level1"]
