"""Developer tools: the fake phone that walks TwiML like Twilio (behind the tests and `astreinte call`)
and the scripted night of `astreinte demo`. The product's domain never imports them."""
