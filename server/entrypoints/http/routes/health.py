"""GET /healthz: whether the server reaches its MQTT broker and InfluxDB."""

from fastapi import APIRouter
from yizhan.server.entrypoints.http.deps import InfluxDep, MqttDep
from yizhan.server.entrypoints.http.schemas import Health

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=Health)
async def healthz(influx: InfluxDep, mqtt: MqttDep) -> Health:
    influx_ok = await influx.ping()
    mqtt_ok = mqtt.connected
    return Health(status="ok" if influx_ok and mqtt_ok else "degraded", mqtt=mqtt_ok, influxdb=influx_ok)
