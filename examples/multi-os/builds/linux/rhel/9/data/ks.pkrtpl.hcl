# Red Hat Enterprise Linux 9 kickstart, rendered by the linux-rhel template.

text
eula --agreed
lang ${vm_guest_os_language}
keyboard ${vm_guest_os_keyboard}
timezone ${vm_guest_os_timezone} --utc

%{ if ip != null ~}
network --device=${device} --bootproto=static --ip=${ip} --netmask=${netmask} --gateway=${gateway} --nameserver=${join(",", dns)} --activate
%{ else ~}
network --device=${device} --bootproto=dhcp --activate
%{ endif ~}
network --hostname=rhel-server

rootpw --lock
user --name=${build_username} --iscrypted --password=${build_password_encrypted} --groups=wheel
sshkey --username=${build_username} "${build_key}"
user --name=${ansible_username} --lock --groups=wheel
sshkey --username=${ansible_username} "${ansible_key}"

firewall --enabled --ssh
selinux --enforcing
firstboot --disabled

ignoredisk --only-use=${disk_device}
zerombr
clearpart --all --initlabel --drives=${disk_device}
part /boot/efi --fstype=efi --size=600
part /boot --fstype=xfs --size=1024
part pv.01 --size=1 --grow
volgroup sysvg pv.01
logvol / --fstype=xfs --vgname=sysvg --name=root --size=1 --grow
%{ if disk_use_swap ~}
logvol swap --vgname=sysvg --name=swap --size=1024
%{ endif ~}

skipx
services --enabled=NetworkManager,sshd
reboot --eject

%packages --ignoremissing --excludedocs
@core
open-vm-tools
%{ for package in additional_packages ~}
${package}
%{ endfor ~}
%end

%post
echo "${build_username} ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/${build_username}
echo "${ansible_username} ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/${ansible_username}
chmod 440 /etc/sudoers.d/${build_username} /etc/sudoers.d/${ansible_username}
%end
