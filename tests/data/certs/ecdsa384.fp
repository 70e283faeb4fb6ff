384 SHA256:TEUoFQ7n0m3uKatAzv3QBF3wmws7Yz/CBRPGMU2VBt4 no comment (ECDSA)
384 MD5:0e:3d:b9:3d:c1:33:a6:15:ca:b3:c5:85:3a:4b:58:aa no comment (ECDSA)
