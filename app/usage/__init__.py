"""Reading events and COUNTER 5.1 usage: the recorder, the monthly processing, the API."""
