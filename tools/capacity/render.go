package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"onething/civil"
	"onething/gateway/bench"
)

// Render writes docs/CAPACITY.md.
func Render(w io.Writer, p Params, m Measured) error {
	var b strings.Builder
	f := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	src := fmt.Sprintf("bench %s, commit `%s`", m.Date, m.Commit)
	if t, err := time.Parse(time.RFC3339, m.Date); err == nil {
		src = fmt.Sprintf("bench %s, commit `%s`", civil.Display(t), m.Commit)
	}

	f("# 容量估算 / Capacity\n\n")
	f("<!-- Written by `go run ./tools/capacity` from docs/benchmarks.json. Do not edit by hand: run it again. -->\n\n")
	f("本文按实测数据估算一个县、一个市和全省部署所需的网关 CPU、副本数、Redis 内存和内嵌 bolt 存储。实测数据全部来自\n")
	f("`docs/benchmarks.json`（`onething bench` 写入，%s，%d 核机器，见 `docs/BENCHMARKS.md`）；假设都列在下面，\n", src, m.Cores)
	f("改动假设或重新跑 bench 后执行 `go run ./tools/capacity` 重写本文（`go test ./tools/capacity` 会在本文过期时失败）。\n\n")
	f("What a county, a city and the province need in gateway CPU, replicas, Redis memory and the embedded bolt store,\n")
	f("from measurements: every measured figure comes from `docs/benchmarks.json` (written by `onething bench`, %s, a\n", src)
	f("%d-core machine, see `docs/BENCHMARKS.md`); every assumption is listed below. After changing an assumption\n", m.Cores)
	f("(`tools/capacity/model.go`) or a new bench run, `go run ./tools/capacity` rewrites this file; `go test ./tools/capacity`\n")
	f("fails while it is stale.\n\n")

	f("## 结论 / In short\n\n")
	hi := p.Scenarios[len(p.Scenarios)-1]
	prov := p.Scopes[len(p.Scopes)-1]
	peak := p.PeakPerSecond(p.PeakDay(hi.PerYear() * prov.Share))
	cores := p.Cores(peak, m.RedisGatewayMs)
	if p.Replicas(cores) == p.MinReplicas {
		f("- **CPU 不是瓶颈。** 即使按最高情景（全省每年 %s 件申请），高峰每秒 %s 件，网关只需 %s 核（Redis 部署），\n",
			count(hi.PerYear()), sig(peak), sig(cores))
		f("  %d 个副本（为可用性）绰绰有余。/ CPU is not what limits: at the highest scenario (%s applications a year in the\n", p.MinReplicas, count(hi.PerYear()))
		f("  province) the peak is %s applications/s and the gateway needs %s cores on Redis; %d replicas (for availability) are plenty.\n",
			sig(peak), sig(cores), p.MinReplicas)
	} else {
		f("- **CPU：** 最高情景（全省每年 %s 件申请）高峰每秒 %s 件，网关需 %s 核、%d 个副本（Redis 部署）。/ CPU: at the highest\n",
			count(hi.PerYear()), sig(peak), sig(cores), p.Replicas(cores))
		f("  scenario (%s applications a year in the province) the peak is %s applications/s and the gateway needs %s cores,\n  %d replicas on Redis.\n",
			count(hi.PerYear()), sig(peak), sig(cores), p.Replicas(cores))
	}
	f("- **内存由保留期决定。** Redis 每件办结申请约 %s，永不删除时内存逐年增长；保留期把含个人信息的存量限定为\n", bytesOf(m.RedisPerFinal))
	f("  “每天申请数 × (办理天数 + 保留天数)”，但删除后保留的假名化痕迹每件仍占约 %s（实测为办结申请的 %s），\n", bytesOf(m.RedisPerTrace), share(m.RedisPerTrace/m.RedisPerFinal))
	f("  所以内存仍按每年申请数 × %s 增长。/ Memory is what retention decides: about %s of Redis per final application; kept\n", bytesOf(m.RedisPerTrace), bytesOf(m.RedisPerFinal))
	f("  forever it grows every year. Retention bounds the applications holding personal data at applications per day × (days\n")
	f("  open + retention days), but the pseudonymous trace an erasure keeps still takes about %s (measured: %s of a final\n", bytesOf(m.RedisPerTrace), share(m.RedisPerTrace/m.RedisPerFinal))
	f("  application), so memory still grows by applications per year × %s.\n", bytesOf(m.RedisPerTrace))
	// Would one bolt process carry the province at the highest scenario
	// with the shortest retention?
	provYear := hi.PerYear() * prov.Share
	boltProv := p.boltVerdict(p.Cores(peak, m.BoltGatewayMs), p.Bytes(provYear, p.Retentions[0], m.BoltPerFinal, m.BoltPerTrace)) == boltYes
	f("- **区县用内嵌 bolt 即可**（单进程，没有故障切换）。")
	if boltProv {
		f("按容量，保留 %d 天时 bolt 连全省最高情景也够；", p.Retentions[0].Days)
	}
	f("市和全省用 Redis 是为了可用性：\n  至少两个网关副本，Redis 主从加 Sentinel（`redis.minReplicas` 见 README“Scale-out on Redis”）。/ A county can run the embedded bolt store (one process, no failover).")
	if boltProv {
		f(" By\n  capacity bolt would carry even the province's highest scenario with a retention of %d days;", p.Retentions[0].Days)
	}
	if boltProv {
		f(" a city or the province\n  runs Redis for availability: two gateway replicas or more, a Redis primary with a replica under Sentinel (`redis.minReplicas`: README, Scale-out on Redis).\n\n")
	} else {
		f(" A city or the province\n  runs Redis for availability: two gateway replicas or more, a Redis primary with a replica under Sentinel (`redis.minReplicas`: README, Scale-out on Redis).\n\n")
	}

	f("## 实测数据 / Measured\n\n")
	f("| 数据 / figure | 值 / value | 来源（benchmarks.json 字段）/ source field |\n|---|---|---|\n")
	f("| 每件申请网关 CPU，Redis / gateway CPU per application, Redis | %s ms | `backends[redis].endToEnd.cpuPerApplication.procsMs.gateway` |\n", num(m.RedisGatewayMs, 2))
	f("| 每件申请 Redis CPU / Redis CPU per application | %s ms | `backends[redis].endToEnd.cpuPerApplication.procsMs.redis` |\n", num(m.RedisRedisMs, 2))
	f("| 每件申请整机 CPU，Redis / the machine's CPU per application, Redis | %s ms | `backends[redis].endToEnd.cpuPerApplication.machineMs` |\n", num(m.RedisMachineMs, 2))
	f("| 每件申请网关 CPU，bolt / gateway CPU per application, bolt | %s ms | `backends[bolt].endToEnd.cpuPerApplication.procsMs.gateway` |\n", num(m.BoltGatewayMs, 2))
	f("| 每件申请整机 CPU，bolt / the machine's CPU per application, bolt | %s ms | `backends[bolt].endToEnd.cpuPerApplication.machineMs` |\n", num(m.BoltMachineMs, 2))
	f("| 每件存量申请 Redis 内存 / Redis memory per stored application | %s | `backends[redis].growth[].redisUsedMemoryBytes`：(%s − %s) / (%s − %s) 件 |\n",
		bytesOf(m.RedisPerApp), count(float64(m.RedisLast.RedisUsed)), count(float64(m.RedisFirst.RedisUsed)), count(float64(m.RedisLast.Stored)), count(float64(m.RedisFirst.Stored)))
	f("| 每件存量申请 bolt 文件 / bolt file per stored application | %s | `backends[bolt].growth[].storeFileBytes`：(%s − %s) / (%s − %s) 件 |\n",
		bytesOf(m.BoltPerApp), count(float64(m.BoltLast.StoreSize)), count(float64(m.BoltFirst.StoreSize)), count(float64(m.BoltLast.Stored)), count(float64(m.BoltFirst.Stored)))
	rr, br := m.RedisRetention, m.BoltRetention
	f("| 每件办结申请（含个人信息）Redis 内存 / Redis memory per final application with its personal part | %s | `backends[redis].retention.bytesPerApplication`：(%s − %s) / (%d 天 × %d 件) |\n",
		bytesOf(m.RedisPerFinal), count(float64(rr.FullBytes)), count(float64(rr.EmptyBytes)), rr.RetentionDays, rr.PerDay)
	f("| 每条删除痕迹 Redis 内存 / Redis memory per erased application's trace | %s | `backends[redis].retention.bytesPerTrace`：%s |\n", bytesOf(m.RedisPerTrace), traceSource(rr, false))
	f("| 每件办结申请（含个人信息）bolt 页 / bolt pages per final application with its personal part | %s | `backends[bolt].retention.bytesPerApplication`：(%s − %s) / (%d 天 × %d 件) |\n",
		bytesOf(m.BoltPerFinal), count(float64(br.FullLive)), count(float64(br.EmptyLive)), br.RetentionDays, br.PerDay)
	f("| 每条删除痕迹 bolt 页 / bolt pages per erased application's trace | %s | `backends[bolt].retention.bytesPerTrace`：%s |\n", bytesOf(m.BoltPerTrace), traceSource(br, true))
	f("| 网关进程常驻内存（端到端后）/ a gateway's resident memory after end to end | %s | `backends[redis].endToEnd.memory.rssAnonBytes` |\n\n", bytesOf(m.GatewayRSS))
	f("全部取自 %s。CPU 是端到端（提交到推送“办结”，经四个模拟部门）每件办结申请的 CPU 时间；整机数字另含内核（回环 TCP、fsync）、\n", src)
	f("模拟部门和压测程序本身，作为上限参考。存储量是增长阶段首末两步之间的斜率（扣除空库的固定开销）；办结申请和删除痕迹的\n")
	f("数字来自保留期阶段（模拟时钟上每天 %d 件申请办结，保留 %d 天，共 %d 天，见 `docs/BENCHMARKS.md`；bolt 按使用中的页计，不含空闲页；\n",
		rr.PerDay, rr.RetentionDays, rr.Days)
	f("Redis：%s；bolt：%s）。\n\n", m.RedisRetentionSrc, m.BoltRetentionSrc)
	f("All from %s. CPU is the CPU time per completed application end to end (submission to the portal receiving\n", src)
	f("`completed`, through the four department mocks); the machine's figure adds the kernel (loopback TCP, fsync), the mocks\n")
	f("and the load generator, and is an upper bound. Bytes per application are the slope between the growth phase's first\n")
	f("and last steps (the empty store's fixed size left out); the figures per final application and per trace come from\n")
	f("the retention phase (%d applications final a day on a simulated clock, a retention of %d days, %d days; see\n", rr.PerDay, rr.RetentionDays, rr.Days)
	f("`docs/BENCHMARKS.md`; bolt by its pages in use, free pages left out; Redis: %s; bolt: %s).\n\n", m.RedisRetentionSrc, m.BoltRetentionSrc)
	f("**这些存储数字的局限 / What these storage figures are and are not:**\n\n")
	f("- 增长阶段提交的是 `contracts/examples/submission-full.json`（事项和材料齐全的申请），且不运行工作协程，所以每件申请的\n")
	f("  首批任务也留在队列中，30 天后过期的去重键也都还在（比实际部署多）；但不含部门办理结果、事件和审计记录（办结的申请\n")
	f("  会更大）。/ The growth phase stores `contracts/examples/submission-full.json` (every item, every material) with no\n")
	f("  workers, so every application's first jobs stay queued and its dedupe keys (which expire after 30 days) are all\n")
	f("  there (more than a working deployment holds), but without department results, events and audit entries (a\n")
	f("  completed application holds more).\n")
	f("- 这次 bench 时控制台列表尚未写入存储；现在每件申请另有 8 个列表键（见 `docs/BENCHMARKS.md`）。重新跑 bench 并重写本文\n")
	f("  即可得到包括它们的数字。/ The console lists were not yet in the store at this bench; a new application now also writes\n")
	f("  8 list entries (see `docs/BENCHMARKS.md`). A new bench run and this generator give the figure with them.\n\n")
	f("所以下表的内存按上面的实测值计算，规划时请留余量，并在上线前用真实数据再测。/ So size with margin, and measure again with\n")
	f("real applications before going live.\n\n")

	f("## 假设 / Assumptions\n\n")
	f("| 假设 / assumption | 值 / value | 理由 / why |\n|---|---|---|\n")
	f("| 县级行政区 / county-level divisions | %d | 四川省 / Sichuan |\n", p.Counties)
	f("| 市（州）/ prefecture-level divisions | %d | 四川省 / Sichuan |\n", p.Cities)
	f("| 残疾人总数 / disabled people | %s | 2006 年第二次全国残疾人抽样调查推算 / the 2006 national sample survey; the upper bound of certificate holders |\n", count(p.Disabled))
	for _, s := range p.Scenarios {
		f("| 情景“%s” / scenario %s | %s 持证人 × %s 件/人/年 = %s 件/年 | 持证人数和每人每年申请数未知，取范围 / holders and applications per holder are not known: a range |\n",
			s.Name, s.NameEn, count(s.Holders), num(s.PerHolder, 1), count(s.PerYear()))
	}
	avg := 1.0 / float64(p.WorkingDays)
	f("| 高峰日占全年 / the busiest day's share of the year | %s %% | %d 年共 %d 个工作日（`gateway/calendar`），平均每个工作日 %s %%；补贴周期开始（如年度认定、政策发布后）的第一天按平均的 %s 倍 / %d has %d working days (the civil calendar), %s %% each on average; the first day of a subsidy cycle taken as %s× the average |\n",
		num(p.PeakDayShare*100, 1), p.CalendarYear, p.WorkingDays, num(avg*100, 2), num(p.PeakDayShare/avg, 1),
		p.CalendarYear, p.WorkingDays, num(avg*100, 2), num(p.PeakDayShare/avg, 1))
	f("| 每天受理时长 / hours a day applications arrive | %s h | 窗口和平台的工作时间 / office hours of windows and the portal |\n", num(p.WorkingHours, 0))
	f("| 突发系数 / burst factor | %s× | 最忙的时段（上午开窗）按当天平均速率的 %s 倍 / the busiest minutes (windows opening) at %s× the day's average rate |\n", num(p.Burst, 0), num(p.Burst, 0), num(p.Burst, 0))
	f("| CPU 目标利用率 / CPU utilisation target | %s %% | 留一半给故障切换、重试积压和突发 / half left for failover, retry backlogs and bursts |\n", num(p.CPUTarget*100, 0))
	f("| 每副本 CPU / cores per replica | %s | 与实测机器相同 / as the measured machine |\n", num(p.CoresPerReplica, 0))
	f("| 最少副本 / minimum replicas (Redis) | %d | 一个副本停机或升级时仍可受理 / one can stop or be upgraded while the other takes applications |\n", p.MinReplicas)
	f("| maxmemory 使用上限 / maxmemory fill | %s %% | maxmemory = 数据 / %s；`noeviction` 下写满即拒绝写入 / with `noeviction` a full Redis refuses writes |\n", num(p.MaxmemoryFill*100, 0), num(p.MaxmemoryFill, 1))
	f("| AOF 重写 / fork 系数 / AOF rewrite, fork factor | %s× | 主机内存 = maxmemory × %s：AOF 重写或 RDB 保存时 fork，最坏情况下写时复制使内存翻倍 / host memory = maxmemory × %s: a rewrite or save forks and copy-on-write can double the pages in the worst case |\n", num(p.ForkFactor, 0), num(p.ForkFactor, 0), num(p.ForkFactor, 0))
	f("| bolt 文件上限 / largest bolt file called fine | %s | 普通虚拟机磁盘可容纳，备份复制只需几分钟 / fits an ordinary VM disk, a backup copy takes minutes |\n\n", bytesOf(p.BoltMaxFile))
	f("一个范围的人口份额代表持证人份额（各地残疾人比例不同，未计入）。/ A scope's share of the people stands for its share of\n")
	f("certificate holders (disability rates differ between places; not modelled).\n\n")

	f("## 保留期 / Retention\n\n")
	f("申请办结且最后一次状态推送送达后开始计算保留期（推送一直未送达的，最迟在办结后 %d 天开始），期满后清除个人信息，\n", p.PushGrace)
	f("只留假名化痕迹（README“保存期限”）。所以含个人信息的存量 = 每年申请数 / 365 × (平均办理天数 %d + 保留天数)；推送长期失败时\n", p.OpenDays)
	f("最多再加 %d 天。痕迹不删除：下表按 %d 年计，痕迹数 = %d 年的申请数 − 含个人信息的存量，数据 = 存量 × 每件办结申请 + 痕迹 × 每条痕迹。\n", p.PushGrace, p.Horizon, p.Horizon)
	f("“永久”一列是 %d 年内全部保留。bolt 文件不会缩小：删除释放的页会被重用，文件停在最高水位（按 16 MiB 增长）；\n", p.Horizon)
	f("`onething store compact` 离线重写文件。\n\n")
	f("Retention counts from the day a case is final and its last status push delivered (at the latest %d days after final\n", p.PushGrace)
	f("when the push never gets through); after it the personal part is erased and a pseudonymous trace kept (README,\n")
	f("Retention). So the applications holding personal data = applications per year / 365 × (%d days open on average +\n", p.OpenDays)
	f("retention days), up to %d days more while pushes fail. Traces are not erased: the tables look %d years ahead, traces =\n", p.PushGrace, p.Horizon)
	f("%d years of applications − those holding personal data, data = those × bytes per final application + traces × bytes\n", p.Horizon)
	f("per trace. \"Forever\" keeps all of %d years. A bbolt file does not shrink: freed pages are reused and the file stays\n", p.Horizon)
	f("at its high-water mark (growing by 16 MiB); `onething store compact` rewrites it offline.\n\n")
	f("保留期阶段实测（`docs/BENCHMARKS.md`）：最后一周的增长是第一周的 %s 倍（Redis）和 %s 倍（bolt 使用中的页），痕迹占办结申请的 %s（Redis）\n",
		num(rr.WeekRatio, 2), num(br.WeekRatio, 2), share(m.RedisPerTrace/m.RedisPerFinal))
	f("和 %s（bolt）。/ Measured by the retention phase: the last week's growth is %s× the first week's (Redis) and %s× (bolt pages\n",
		share(m.BoltPerTrace/m.BoltPerFinal), num(rr.WeekRatio, 2), num(br.WeekRatio, 2))
	f("in use); a trace is %s of a final application (Redis) and %s (bolt).\n\n", share(m.RedisPerTrace/m.RedisPerFinal), share(m.BoltPerTrace/m.BoltPerFinal))
	r0 := p.Retentions[0]
	f("例如全省最高情景、保留 %d 天：推送正常时 %s 件申请含个人信息，推送一直失败时 %s 件。/ For example the province at the highest\n",
		r0.Days, count(p.Stored(provYear, r0)), count(p.StoredNoPush(provYear, r0)))
	f("scenario with a retention of %d days: %s applications hold personal data while pushes are delivered, %s while they all fail.\n\n",
		r0.Days, count(p.Stored(provYear, r0)), count(p.StoredNoPush(provYear, r0)))

	for _, sc := range p.Scopes {
		f("## %s / %s\n\n", sc.Name, titleCase(sc.NameEn))
		f("全省的 %s（%s）。/ %s of the province (%s).\n\n", pct(sc.Share), sc.Why, pct(sc.Share), sc.WhyEn)
		f("| 情景 / scenario | 申请/年 / per year | 高峰日 / peak day | 高峰每秒 / peak per s | 网关核（Redis）/ gateway cores, Redis | Redis 核 / Redis cores | 网关核（bolt）/ gateway cores, bolt | 副本（Redis）/ replicas, Redis |\n")
		f("|---|---|---|---|---|---|---|---|\n")
		for _, s := range p.Scenarios {
			year := s.PerYear() * sc.Share
			day := p.PeakDay(year)
			ps := p.PeakPerSecond(day)
			rc := p.Cores(ps, m.RedisGatewayMs)
			f("| %s / %s | %s | %s | %s | %s | %s | %s | %d |\n", s.Name, s.NameEn, count(year), count(day), sig(ps),
				sig(rc), sig(p.Cores(ps, m.RedisRedisMs)), sig(p.Cores(ps, m.BoltGatewayMs)), p.Replicas(rc))
		}
		f("\n| 情景 / scenario | 保留 / retention | 含个人信息 / with personal data | %d 年后痕迹 / traces after %d years | Redis 数据 / data | maxmemory | Redis 主机内存 / host memory | bolt 使用中的页 / bolt pages in use | bolt 够用 / bolt enough |\n", p.Horizon, p.Horizon)
		f("|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range p.Scenarios {
			year := s.PerYear() * sc.Share
			boltCores := p.Cores(p.PeakPerSecond(p.PeakDay(year)), m.BoltGatewayMs)
			for _, r := range p.Retentions {
				stored := p.Stored(year, r)
				// RedisMemory of one "application" of all the bytes.
				data, maxm, host := p.RedisMemory(1, p.Bytes(year, r, m.RedisPerFinal, m.RedisPerTrace))
				file := p.Bytes(year, r, m.BoltPerFinal, m.BoltPerTrace)
				f("| %s / %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.Name, s.NameEn, r.Label(), count(stored), count(p.Traces(year, r)),
					bytesOf(data), bytesOf(maxm), bytesOf(host), bytesOf(file), p.boltVerdict(boltCores, file))
			}
		}
		f("\n")
	}

	f("## 怎样读这些表 / Reading the tables\n\n")
	f("- 高峰每秒 = 高峰日申请 × 突发系数 / (每天受理小时 × 3600)；核数 = 高峰每秒 × 每件 CPU 毫秒 / 1000 / 目标利用率；\n")
	f("  副本 = max(%d, ⌈网关核 / 每副本核⌉)。/ peak per second = peak day × burst / (hours × 3600); cores = peak per second ×\n", p.MinReplicas)
	f("  ms per application / 1000 / utilisation target; replicas = max(%d, ⌈gateway cores / cores per replica⌉).\n", p.MinReplicas)
	f("- Redis 是单线程的：Redis 核一列须远小于 1。/ Redis runs commands on one thread: its column must stay well below 1.\n")
	f("- Redis 主机内存是主节点和每个副本各自需要的内存（Sentinel 部署见 README 的 “Scale-out on Redis”）。/ Host memory is what\n")
	f("  the primary and each replica need (Sentinel: the README's \"Scale-out on Redis\").\n")
	f("- 每个网关副本另需约 %s 常驻内存加 Go 堆的增长余量。/ Each gateway replica also needs about %s resident plus room for\n", bytesOf(m.GatewayRSS), bytesOf(m.GatewayRSS))
	f("  its heap to grow.\n")
	f("- bolt 只有一个进程，没有故障切换：它够用是指 CPU 和文件大小，不是可用性。/ bolt is one process without failover:\n")
	f("  \"enough\" speaks of CPU and file size, not of availability.\n")

	_, err := io.WriteString(w, b.String())
	return err
}

// boltVerdict says whether one bolt-backed process suffices.
func (p Params) boltVerdict(cores, file float64) string {
	switch {
	case cores > p.CoresPerReplica:
		return "否：CPU / no: CPU"
	case file > p.BoltMaxFile:
		return "否：文件过大 / no: file size"
	}
	return boltYes
}

const boltYes = "是 / yes"

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// count is a whole number with thousands separators.
func count(x float64) string {
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// sig is x to two significant figures, without an exponent.
func sig(x float64) string {
	if x == 0 {
		return "0"
	}
	return num(x, max(0, 1-int(math.Floor(math.Log10(math.Abs(x))))))
}

func num(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }

// share is a ratio as a whole percentage.
func share(x float64) string { return num(x*100, 0) + " %" }

func pct(x float64) string {
	if x >= 1 {
		return "100 %"
	}
	return num(x*100, 2) + " %"
}

// bytesOf is a size in binary units.
func bytesOf(x float64) string {
	switch {
	case x >= 1<<40:
		return num(x/(1<<40), 2) + " TiB"
	case x >= 1<<30:
		return num(x/(1<<30), 1) + " GiB"
	case x >= 1<<20:
		return num(x/(1<<20), 0) + " MiB"
	case x >= 1<<10:
		return num(x/(1<<10), 1) + " KiB"
	}
	return num(x, 0) + " B"
}

// traceSource says how a bytes-per-trace figure was derived.
func traceSource(rr *bench.RetentionRun, live bool) string {
	full, end := rr.FullBytes, rr.Samples[len(rr.Samples)-1].Bytes
	if live {
		full, end = rr.FullLive, rr.EndLive
	}
	return fmt.Sprintf("(%s − %s) / %s 条 / traces", count(float64(end)), count(float64(full)), count(float64(rr.Samples[len(rr.Samples)-1].Traces)))
}
