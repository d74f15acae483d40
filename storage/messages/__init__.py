"""Messages to patients (SMS, WhatsApp): requests, delivery status, inbound replies, opt-out."""
