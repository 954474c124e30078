vm_cpu_count = 2
vm_cpu_count = 4 # ERROR: Attribute redefined
