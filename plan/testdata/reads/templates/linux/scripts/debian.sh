echo debian
