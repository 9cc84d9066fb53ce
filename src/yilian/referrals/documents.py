"""Referral documents: the referral slip PDF with a QR code, the WS 445.16 data set, Excel workbooks."""
