"""The travel services' Lambda handlers: a reservation and its cancellation for each of hotel,
flight and car. Reservation ids derive from the trip id, so a run can be checked by hand."""

# Cars by city and class: Reykjavik has no car left, so booking there fails at the third step.
CARS = {"Lisbon": {"compact", "suv"}, "Reykjavik": set()}


class CarUnavailable(Exception):
    pass


def reserve_hotel(event, context):
    return {"reservation_id": f"HOTEL-{event['trip_id']}", "nights": event["nights"]}


def reserve_flight(event, context):
    return {"reservation_id": f"FLIGHT-{event['trip_id']}", "route": f"{event['from']}-{event['to']}"}


def reserve_car(event, context):
    if event["class"] not in CARS.get(event["city"], set()):
        raise CarUnavailable(f"no {event['class']} car is free in {event['city']}")
    return {"reservation_id": f"CAR-{event['trip_id']}"}


def cancel(event, context):
    """Cancelling is idempotent, as a compensation must be: a retry cancels nothing twice."""
    print(f"cancelled {event['reservation']}")
    return {"cancelled": event["reservation"]}
