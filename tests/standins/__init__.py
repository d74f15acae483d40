"""Local HTTP stand-ins of the messaging providers' APIs: they check auth and shape like the provider,
record what they got, and can be told to fail (5xx, slowness) to test retries and timeouts."""
