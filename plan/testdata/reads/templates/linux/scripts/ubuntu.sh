echo ubuntu
