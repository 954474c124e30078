os_name     = "rockylinux"
answer_file = "ks.pkrtpl.cfg"
mirror      = "http://dl.rockylinux.org/pub/rocky/9"
