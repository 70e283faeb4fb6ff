521 SHA256:jPNkVsbQx0WNyDOUqigYRMap4qlvWZzL8/hhSo0Z4Nk ecdsa521@sshclient-test (ECDSA)
521 MD5:9e:cf:c4:7e:ef:ba:a3:2b:31:d0:31:14:b0:e8:60:bf ecdsa521@sshclient-test (ECDSA)
