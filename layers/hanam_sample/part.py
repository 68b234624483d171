"""Hà Nam, the first part of the samples: its population, network density and named places."""

from __future__ import annotations

from layers.synthetic.part import NrZone, Part, PriorityArea

#: (area id, name, category, host commune code, radius m, 5G target year)
_AREAS = (
    ("PA-01", "Trung tâm thành phố Phủ Lý", "provincial_centre", "13285", 1500, 2025),
    ("PA-02", "Khu trung tâm hành chính tỉnh Hà Nam", "state_agency", "13291", 350, 2030),
    ("PA-03", "Trung tâm huyện Lý Nhân (Vĩnh Trụ)", "district_centre", "13597", 1200, 2025),
    ("PA-04", "Trung tâm thị xã Duy Tiên (Hòa Mạc)", "district_centre", "13324", 1000, 2030),
    ("PA-05", "Trung tâm thị xã Kim Bảng (Quế)", "district_centre", "13384", 1000, 2030),
    ("PA-06", "Trung tâm huyện Thanh Liêm (Tân Thanh)", "district_centre", "13474", 900, 2030),
    ("PA-07", "Trung tâm huyện Bình Lục (Bình Mỹ)", "district_centre", "13501", 900, 2030),
    ("PA-08", "Khu công nghiệp Đồng Văn I", "industrial_zone", "13321", 800, 2030),
    ("PA-09", "Khu công nghiệp Đồng Văn II", "industrial_zone", "13333", 1000, 2030),
    ("PA-10", "Khu công nghiệp Đồng Văn III", "industrial_zone", "13357", 900, 2030),
    ("PA-11", "Khu công nghiệp Đồng Văn IV", "industrial_zone", "13390", 900, 2030),
    ("PA-12", "Khu công nghiệp Châu Sơn", "industrial_zone", "13318", 800, 2030),
    ("PA-13", "Khu công nghiệp Hòa Mạc", "industrial_zone", "13330", 700, 2030),
    ("PA-14", "Khu công nghiệp Thanh Liêm", "industrial_zone", "13453", 700, 2030),
    ("PA-15", "Khu công nghiệp Liêm Phong", "industrial_zone", "13450", 600, 2030),
    ("PA-16", "Khu công nghiệp Thái Hà", "industrial_zone", "13588", 700, 2030),
    ("PA-17", "Chùa Tam Chúc", "tourism_heritage", "13429", 900, 2030),
    ("PA-18", "Ngũ Động Thi Sơn", "tourism_heritage", "13435", 400, 2030),
    ("PA-19", "Chùa Bà Đanh", "tourism_heritage", "13423", 350, 2030),
    ("PA-20", "Đền Trần Thương", "tourism_heritage", "13594", 350, 2030),
    ("PA-21", "Khu lưu niệm nhà văn Nam Cao", "tourism_heritage", "13630", 300, 2030),
    ("PA-22", "Chùa Long Đọi Sơn", "tourism_heritage", "13369", 400, 2030),
)  # fmt: skip

#: District → the commune of its seat; Phủ Lý first, the capital district, where the trunk
#: rings run underground.
_SEATS = {
    "347": "13285", "349": "13324", "350": "13384", "351": "13474", "352": "13501",
    "353": "13597",
}  # fmt: skip

HANAM = Part(
    code="35",
    name="Tỉnh Hà Nam",
    tag="HNM",
    population=880_000,
    positions=918,
    seats=_SEATS,
    fpt_districts=("347", "349", "350"),
    # 5G starts in Phủ Lý's wards and around Vĩnh Trụ, the seat of Lý Nhân.
    nr_zones=(NrZone("347", 0.6), NrZone("353", 0.6, seat="13597", radius_m=5_000.0)),
    priority_areas=tuple(PriorityArea(*area) for area in _AREAS),
)
