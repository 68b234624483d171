"""Nam Định and the former Ninh Bình, the two other parts of the whole-province sample.

Populations are the 2019 census totals (General Statistics Office, Population and Housing Census
of 1 April 2019); positions follow Hà Nam's density, per person. Seats are each district's
township (a central ward in the cities), the capital district first; districts and their codes
are those of June 2025 (Mỹ Lộc merged into Nam Định city, Ninh Bình city into Hoa Lư city).
Sources of the priority areas' names and host communes are in ``layers/SOURCES.md``.
"""

from __future__ import annotations

from layers.hanam_sample.part import HANAM
from layers.synthetic.part import NrZone, Part, PriorityArea

NAM_DINH_2019 = 1_780_393
NINH_BINH_2019 = 982_487


def _positions(population: int) -> int:
    """Hà Nam's number of positions per person, for another part."""
    return round(HANAM.positions * population / HANAM.population)


#: (area id, name, category, host commune code, radius m, 5G target year)
_NAM_DINH_AREAS = (
    ("PA-23", "Trung tâm thành phố Nam Định", "provincial_centre", "13666", 1500, 2025),
    ("PA-24", "Trung tâm huyện Vụ Bản (Gôi)", "district_centre", "13741", 900, 2030),
    ("PA-25", "Trung tâm huyện Ý Yên (Lâm)", "district_centre", "13795", 900, 2030),
    ("PA-26", "Trung tâm huyện Nghĩa Hưng (Liễu Đề)", "district_centre", "13891", 900, 2030),
    ("PA-27", "Trung tâm huyện Nam Trực (Nam Giang)", "district_centre", "13966", 900, 2030),
    ("PA-28", "Trung tâm huyện Trực Ninh (Cổ Lễ)", "district_centre", "14026", 900, 2030),
    ("PA-29", "Trung tâm huyện Xuân Trường", "district_centre", "14089", 900, 2030),
    ("PA-30", "Trung tâm huyện Giao Thủy", "district_centre", "14167", 900, 2030),
    ("PA-31", "Trung tâm huyện Hải Hậu (Yên Định)", "district_centre", "14215", 900, 2030),
    ("PA-32", "Khu công nghiệp Hòa Xá", "industrial_zone", "13699", 1000, 2030),
    ("PA-33", "Khu công nghiệp Bảo Minh", "industrial_zone", "13783", 800, 2030),
    ("PA-34", "Khu công nghiệp Mỹ Trung", "industrial_zone", "13720", 800, 2030),
    ("PA-35", "Khu công nghiệp Mỹ Thuận", "industrial_zone", "13732", 600, 2030),
    ("PA-36", "Khu công nghiệp Dệt may Rạng Đông", "industrial_zone", "13894", 1000, 2030),
    ("PA-37", "Khu di tích Đền Trần – Chùa Phổ Minh", "tourism_heritage", "13687", 400, 2030),
    ("PA-38", "Quần thể di tích Phủ Dầy", "tourism_heritage", "13780", 400, 2030),
    ("PA-39", "Vườn quốc gia Xuân Thủy", "tourism_heritage", "14161", 1500, 2030),
    ("PA-40", "Bãi biển Thịnh Long", "tourism_heritage", "14221", 600, 2030),
    ("PA-41", "Bãi biển Quất Lâm", "tourism_heritage", "14152", 600, 2030),
    ("PA-42", "Chùa Keo Hành Thiện", "tourism_heritage", "14095", 300, 2030),
    ("PA-43", "Chùa Cổ Lễ", "tourism_heritage", "14026", 300, 2030),
)  # fmt: skip

_NINH_BINH_AREAS = (
    ("PA-44", "Trung tâm thành phố Hoa Lư (Ninh Bình)", "provincial_centre", "14320", 1500, 2025),
    ("PA-45", "Trung tâm thành phố Tam Điệp", "district_centre", "14362", 1000, 2025),
    ("PA-46", "Trung tâm huyện Nho Quan", "district_centre", "14428", 900, 2030),
    ("PA-47", "Trung tâm huyện Gia Viễn (Thịnh Vượng)", "district_centre", "14464", 900, 2030),
    ("PA-48", "Trung tâm huyện Yên Khánh (Yên Ninh)", "district_centre", "14560", 900, 2030),
    ("PA-49", "Trung tâm huyện Kim Sơn (Phát Diệm)", "district_centre", "14620", 900, 2030),
    ("PA-50", "Trung tâm huyện Yên Mô (Yên Thịnh)", "district_centre", "14701", 900, 2030),
    ("PA-51", "Khu công nghiệp Gián Khẩu", "industrial_zone", "14494", 900, 2030),
    ("PA-52", "Khu công nghiệp Khánh Phú", "industrial_zone", "14566", 900, 2030),
    ("PA-53", "Khu công nghiệp Tam Điệp", "industrial_zone", "14377", 900, 2030),
    ("PA-54", "Khu công nghiệp Phúc Sơn", "industrial_zone", "14356", 700, 2030),
    ("PA-55", "Khu công nghiệp Khánh Cư", "industrial_zone", "14581", 600, 2030),
    ("PA-56", "Quần thể danh thắng Tràng An", "tourism_heritage", "14533", 1500, 2030),
    ("PA-57", "Khu di tích Cố đô Hoa Lư", "tourism_heritage", "14533", 500, 2030),
    ("PA-58", "Chùa Bái Đính", "tourism_heritage", "14521", 800, 2030),
    ("PA-59", "Khu du lịch Tam Cốc – Bích Động", "tourism_heritage", "14551", 800, 2030),
    ("PA-60", "Vườn quốc gia Cúc Phương", "tourism_heritage", "14404", 1500, 2030),
    ("PA-61", "Khu bảo tồn đất ngập nước Vân Long", "tourism_heritage", "14479", 1000, 2030),
    ("PA-62", "Nhà thờ đá Phát Diệm", "tourism_heritage", "14620", 300, 2030),
)  # fmt: skip

#: District → the commune of its seat (the capital district first).
_NAM_DINH_SEATS = {
    "356": "13666", "359": "13741", "360": "13795", "361": "13891", "362": "13966",
    "363": "14026", "364": "14089", "365": "14167", "366": "14215",
}  # fmt: skip

_NINH_BINH_SEATS = {
    "374": "14320", "370": "14362", "372": "14428", "373": "14464", "375": "14560",
    "376": "14620", "377": "14701",
}  # fmt: skip

NAM_DINH = Part(
    code="36",
    name="Tỉnh Nam Định",
    tag="NDH",
    population=NAM_DINH_2019,
    positions=_positions(NAM_DINH_2019),
    seats=_NAM_DINH_SEATS,
    # Nam Định city is the only district with wards, FPT's customers.
    fpt_districts=("356",),
    nr_zones=(NrZone("356", 0.6),),
    priority_areas=tuple(PriorityArea(*area) for area in _NAM_DINH_AREAS),
)

NINH_BINH = Part(
    code="37",
    name="Tỉnh Ninh Bình",
    tag="NBH",
    population=NINH_BINH_2019,
    positions=_positions(NINH_BINH_2019),
    seats=_NINH_BINH_SEATS,
    fpt_districts=("374", "370"),
    # 5G starts in the wards of the two cities, Hoa Lư (with the former Ninh Bình city) and
    # Tam Điệp.
    nr_zones=(NrZone("374", 0.6), NrZone("370", 0.6)),
    priority_areas=tuple(PriorityArea(*area) for area in _NINH_BINH_AREAS),
)
