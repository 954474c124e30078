sources_enabled = ["source.file.linux-ubuntu-vmware"]
hardening       = ["ssh", "stig"]
