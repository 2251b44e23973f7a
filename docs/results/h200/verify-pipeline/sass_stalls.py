import csv, sys, io
lines = open(sys.argv[1]).read().split('\n')
start, end = int(sys.argv[2]), int(sys.argv[3])
rows = list(csv.reader(io.StringIO('\n'.join(lines[start:end]))))
hdr = rows[0]; data = rows[1:]
ix = {h: i for i, h in enumerate(hdr)}
def num(s):
    try: return float(s.replace(',', ''))
    except: return 0.0
tot = sum(num(r[ix['Warp Stall Sampling (All Samples)']]) for r in data if len(r) > 5)
print('total samples', tot, 'instructions', len(data))
stalls = [h for h in hdr if h.startswith('stall_') and 'Not Issued' not in h]
# whole program listing with samples; mark top
N = int(sys.argv[4]) if len(sys.argv) > 4 else 60
for k, r in enumerate(data):
    if len(r) < 5: continue
    s = num(r[ix['Warp Stall Sampling (All Samples)']])
    ex = num(r[ix['Instructions Executed']])
    top = sorted(((num(r[ix[h]]), h[6:]) for h in stalls), reverse=True)[:3]
    if s >= tot * 0.004 or 'WGMMA' in r[1] or 'SYNCS' in r[1] or 'BAR' in r[1]:
        print(f"{k:5d} {r[0][-5:]} {s:6.0f} {ex:9.0f} {r[1][:60]:60s} " + " ".join(f"{h}={v:.0f}" for v, h in top if v))
print()
regions = [(0, 106, 'prologue'), (107, 411, 'multiply loop'), (412, 1393, 'after multiply/other'), (1394, 1616, 'feed loop'), (1617, 5000, 'rest')]
for a, b, name in regions:
    sel = [r for k, r in enumerate(data) if a <= k <= b and len(r) > 5]
    s = sum(num(r[ix['Warp Stall Sampling (All Samples)']]) for r in sel)
    ex = sum(num(r[ix['Instructions Executed']]) for r in sel)
    st = {h[6:]: sum(num(r[ix[h]]) for r in sel) for h in stalls}
    print(f"{name:22s} samples={s:6.0f} ({100*s/tot:4.1f}%) warp-instr={ex:9.0f} " + " ".join(f"{k}={v:.0f}" for k, v in sorted(st.items(), key=lambda x: -x[1])[:7]))
