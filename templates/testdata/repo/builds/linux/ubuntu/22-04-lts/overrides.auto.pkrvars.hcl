vm_guest_os_name = "ubuntu"
