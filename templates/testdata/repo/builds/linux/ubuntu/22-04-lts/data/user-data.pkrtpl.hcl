#cloud-config
autoinstall:
  version: 1
  locale: ${vm_os_language}
  identity:
    username: ${build_username}
  this is not hcl {{{
