# Hardware and Vagrant settings every box shares.
cpus         = 2
memory       = 2048
disk_size    = 65536
vagrant_user = "vagrant"
