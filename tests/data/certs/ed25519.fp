256 SHA256:MRE35h0FQPK4BweTl/xNqawOWBSppxVc+lgAOn9ylm4 no comment (ED25519)
256 MD5:95:db:19:02:52:64:d0:ea:0b:1d:c1:0d:49:16:63:a5 no comment (ED25519)
