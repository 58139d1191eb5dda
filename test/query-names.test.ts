// Query parameter names as the routes spell them (src/query-names.ts), without a server.
import t from 'tap'
import { QueryNames } from '../src/query-names.js'

const names = (): QueryNames => {
  const q = new QueryNames()
  q.learn({ type: 'object', properties: { num: {}, dateFrom: {} } })
  return q
}

t.test('known names in another case or as name[] are respelled; others are left alone', async (t) => {
  const q = names()
  t.same({ ...q.parse('NUM=101&DATEFROM=x&Key=k') }, { num: '101', dateFrom: 'x', key: 'k' })
  t.same({ ...q.parse('num[]=101') }, { num: '101' }, 'a one-value PHP list')
  t.same({ ...q.parse('Num%5B%5D=101') }, { num: '101' }, 'encoded brackets')
  t.same({ ...q.parse('other=1&Other=2&x[]=3&num[0]=4') }, { other: '1', Other: '2', 'x[]': '3', 'num[0]': '4' }, 'unknown names and indexed lists are not touched')
  t.same({ ...q.parse('') }, {})
})

t.test('two spellings of one name are a list (the duplicate rule refuses it), in the order given', async (t) => {
  const q = names()
  t.same({ ...q.parse('num=1&NUM=2') }, { num: ['1', '2'] })
  t.same({ ...q.parse('num=1&num=2&Num=3') }, { num: ['1', '2', '3'] })
  t.same({ ...q.parse('num[]=1&num[]=2') }, { num: ['1', '2'] })
})

t.test('learn: schemas without properties are ignored; one name spelled two ways by two routes is refused', async (t) => {
  const q = names()
  q.learn(undefined)
  q.learn({ type: 'object' })
  q.learn({ properties: null })
  q.learn({ properties: { num: {} } })
  t.throws(() => { q.learn({ properties: { datefrom: {} } }) }, /"datefrom" is spelled "dateFrom" by another route/)
})
