"""Writers of the files the importer tests read: real files, made in ``tmp_path``."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

#: Positions inside Hà Nam (Phủ Lý, Duy Tiên, Kim Bảng, Lý Nhân, Bình Lục, Thanh Liêm).
INSIDE = [
    (105.9123, 20.5432),
    (105.9712, 20.6301),
    (105.8521, 20.5702),
    (106.0805, 20.5512),
    (106.0013, 20.5021),
    (105.9217, 20.4533),
]

#: The five combining tone marks Windows-1258 has (grave, acute, tilde, hook, dot below).
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def encode_cp1258(text: str) -> bytes:
    """Vietnamese text in Windows-1258: letters it lacks precomposed are written as a base
    letter plus a combining tone mark, as Windows itself does."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            tone = next(c for c in decomposed if c in TONE_MARKS)
            base = unicodedata.normalize("NFC", decomposed.replace(tone, ""))
            out += base.encode("cp1258") + tone.encode("cp1258")
    return bytes(out)


def write_kml(path: Path, placemarks: list[tuple[str, str, float, float, str]]) -> Path:
    """A Google Earth style KML: name, operator and height as schema data, 3D points."""
    marks = "\n".join(
        f"""  <Placemark><name>{name}</name>
    <ExtendedData><SchemaData schemaUrl="#tram">
      <SimpleData name="Nhà mạng">{op}</SimpleData>
      <SimpleData name="Độ cao cột">{height}</SimpleData>
      <SimpleData name="Loại cột">lattice</SimpleData>
    </SchemaData></ExtendedData>
    <Point><coordinates>{lon},{lat},0</coordinates></Point>
  </Placemark>"""
        for name, op, lon, lat, height in placemarks
    )
    path.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Trạm BTS</name>
  <Schema name="tram" id="tram">
    <SimpleField name="Nhà mạng" type="string"/>
    <SimpleField name="Độ cao cột" type="string"/>
    <SimpleField name="Loại cột" type="string"/>
  </Schema>
{marks}
</Document></kml>
""",
        encoding="utf-8",
    )
    return path


def zip_files(path: Path, files: list[Path], names: list[str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for i, file in enumerate(files):
            archive.write(file, names[i] if names else file.name)
    return path
