256 SHA256:YsQRYBa7XB2yLGqH7bxMpuJG4iCGTOFFr23NB7fQ0As ed25519@sshclient-test (ED25519)
256 MD5:2b:74:fb:a1:e4:fe:09:b1:b3:63:df:cc:37:14:b0:d8 ed25519@sshclient-test (ED25519)
