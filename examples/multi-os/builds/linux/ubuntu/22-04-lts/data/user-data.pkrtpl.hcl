#cloud-config
autoinstall:
  version: 1
  early-commands:
    - sudo systemctl stop ssh
  locale: ${vm_guest_os_language}
  keyboard:
    layout: ${vm_guest_os_keyboard}
  storage:
    layout:
      name: lvm
      match:
        path: /dev/${disk_device}
%{ if disk_use_swap ~}
    swap:
      size: 1G
%{ endif ~}
  network:
    network:
      version: 2
      ethernets:
        ${device}:
%{ if ip != null ~}
          addresses:
            - ${ip}/${netmask}
          routes:
            - to: default
              via: ${gateway}
          nameservers:
            addresses:
%{ for server in dns ~}
              - ${server}
%{ endfor ~}
%{ else ~}
          dhcp4: true
%{ endif ~}
  identity:
    hostname: ubuntu-server
    username: ${build_username}
    password: '${build_password_encrypted}'
  ssh:
    install-server: true
    allow-pw: true
    authorized-keys:
      - ${build_key}
  packages:
    - openssh-server
    - open-vm-tools
    - cloud-init
%{ for package in additional_packages ~}
    - ${package}
%{ endfor ~}
  user-data:
    disable_root: false
    timezone: ${vm_guest_os_timezone}
    users:
      - name: ${ansible_username}
        sudo: ALL=(ALL) NOPASSWD:ALL
        shell: /bin/bash
        ssh_authorized_keys:
          - ${ansible_key}
  late-commands:
    - sed -i -e 's/^#\?PasswordAuthentication.*/PasswordAuthentication yes/g' /target/etc/ssh/sshd_config
    - echo '${build_username} ALL=(ALL) NOPASSWD:ALL' > /target/etc/sudoers.d/${build_username}
    - curtin in-target --target=/target -- chmod 440 /etc/sudoers.d/${build_username}
