def test_health(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


def test_publish_and_read(client, publish, reader):
    publish(title="Drones", body="Lead [^1].\n\n<!-- paywall -->\n\nSecretword after.\n\n[^1]: Src.")
    listed = client.get("/api/v1/reports").json()
    assert listed["items"][0]["slug"] == "drones"
    anon = client.get("/api/v1/reports/drones")
    assert anon.status_code == 200, anon.text
    assert "Secretword" not in anon.text
    print(anon.json())
