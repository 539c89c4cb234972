"""Small GeoJSON builders for the region tests."""


def square(x0: float, y0: float, size: float = 0.01) -> dict:
    """A closed GeoJSON Polygon: the square with south-west corner (x0, y0)."""
    x1, y1 = round(x0 + size, 9), round(y0 + size, 9)
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def rectangle(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def feature(code: str, geometry: dict, **properties) -> dict:
    return {"type": "Feature", "properties": {"code": code, **properties}, "geometry": geometry}


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}
