521 SHA256:cwWhg/iwt3nxC4lm8C0rdvtdBiEThWCZp5gE0x8LaYw no comment (ECDSA)
521 MD5:ba:a4:63:d1:a5:8f:84:12:8f:e9:dc:fc:ab:bf:86:f0 no comment (ECDSA)
